"""Pure simulations of published trials, with known truth, for the analyses run on the platform."""
