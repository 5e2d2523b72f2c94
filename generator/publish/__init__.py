"""The publish side: store -> site/ and blogs. Never imports torch (tests/publish/test_no_torch.py checks)."""
