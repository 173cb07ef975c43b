! /a /b
