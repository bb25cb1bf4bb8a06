"""Models: CNN baselines, the built-in transformer, pretrained language models, the registry."""
