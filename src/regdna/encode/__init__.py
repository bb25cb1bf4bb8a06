from regdna.encode.onehot import ALPHABET, one_hot, one_hot_to_strings, reverse_complement

__all__ = ["ALPHABET", "one_hot", "one_hot_to_strings", "reverse_complement"]
