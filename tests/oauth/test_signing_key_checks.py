from django.core.checks import run_checks


def test_an_unusable_signing_key_fails_the_system_check(settings):
    settings.JWT_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
    assert "oauth.E001" in [message.id for message in run_checks()]


def test_the_default_configuration_passes(settings):
    assert [message.id for message in run_checks() if message.id.startswith("oauth.")] == []
