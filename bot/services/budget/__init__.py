"""Neighbourhood budgets ("Wijk aan Zet"): rounds, texts and the pure counting library."""
