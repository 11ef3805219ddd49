"""One module per source system: what it records about people and their activity."""
