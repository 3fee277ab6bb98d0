"""What learns from the labels, and how good it is on them (cross-validated, per class)."""
