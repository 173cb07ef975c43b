/a /b prco
