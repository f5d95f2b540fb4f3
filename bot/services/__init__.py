"""Capability logic without a chat context: what to decide, render, send and schedule."""
