"""Graph → other media: PyTorch code (pytorch.py), drawings (draw.py)."""
