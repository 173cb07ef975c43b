/a prco
