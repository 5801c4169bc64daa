"""Fapshi, Cameroon's mobile-money payments: client and wire models."""

LIVE_BASE_URL = "https://live.fapshi.com"
SANDBOX_BASE_URL = "https://sandbox.fapshi.com"
TEST_KEY_PREFIX = "FAK_TEST_"


def real_base_url(api_key: str) -> str:
    """Fapshi's own address for a key, as Fapshi's SDKs choose it: test keys (`FAK_TEST_…`)
    work only on its sandbox, live keys only on live."""
    return SANDBOX_BASE_URL if api_key.startswith(TEST_KEY_PREFIX) else LIVE_BASE_URL
