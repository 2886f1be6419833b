"""Key material published in this repository for tests and local development.

It protects nothing. Production refuses to start with any of it.
"""

TEST_SECRET_KEY = "test-only-secret-key-that-protects-nothing-0123456789"  # noqa: S105 - published on purpose
TEST_FIELD_ENCRYPTION_KEYS = (
    "1:dGVzdC1vbmx5LWZpZWxkLWtleS12ZXJzaW9uLW9uZSE=,"
    "2:dGVzdC1vbmx5LWZpZWxkLWtleS12ZXJzaW9uLXR3byE="
)
TEST_BLIND_INDEX_KEY = "dGVzdC1vbmx5LWJsaW5kLWluZGV4LXJvb3Qta2V5ISE="
TEST_AUDIT_SIGNING_KEY = "3nrvTfjNFWz8Qk+q94c5FSasmDoGKpcZJ14314H0Ls4="
