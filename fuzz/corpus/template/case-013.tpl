/a /b /c,prco
