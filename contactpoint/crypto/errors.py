"""Errors raised by field encryption and blind indexing. Nothing falls back."""


class CryptoError(Exception):
    """Base class: something about keys or ciphertexts is wrong."""


class KeyConfigurationError(CryptoError):
    """The key material in the environment is missing or malformed."""


class DecryptionError(CryptoError):
    """A ciphertext failed authentication: tampered, moved, or unknown key.

    The message never includes the ciphertext or any plaintext.
    """
