"""Small pure helpers shared by several layers: dates people type, distances, caches, charts."""
