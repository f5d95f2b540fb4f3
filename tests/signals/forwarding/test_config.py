"""The forwarding table: validation names the field, secrets stay secret."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.signals.channels import (
    EmailConfig,
    Forwarder,
    ForwardingConfigError,
    Open311Config,
    SignalenConfig,
    build_forwarder,
    load_forwarding_config,
)

SUB = "https://meldingen.example.nl/signals/v1/public/terms/categories/overig/sub_categories/overig"
SIGNALEN = {
    "kind": "signalen",
    "base_url": "https://api.example.nl",
    "category_urls": {"other": SUB},
}
OPEN311: dict[str, Any] = {
    "kind": "open311", "base_url": "https://open311.example.nl/v2/", "api_key": "s3cr3t-key",
    "service_codes": {"other": "OV-99"},
}  # fmt: skip
EMAIL: dict[str, Any] = {
    "kind": "email", "smtp_host": "smtp.example.nl", "from_address": "wijkbot@wijk.nl",
    "to_address": "meldingen@gemeente.nl",
}  # fmt: skip


@pytest.mark.parametrize(
    ("table", "kind", "model"),
    [(SIGNALEN, "signalen", SignalenConfig), (OPEN311, "open311", Open311Config),
     (EMAIL, "email", EmailConfig)],
)  # fmt: skip
async def test_each_kind_builds_its_forwarder(
    table: dict[str, Any], kind: str, model: type
) -> None:
    config = load_forwarding_config(table)
    assert isinstance(config, model)
    forwarder = build_forwarder(config)
    assert isinstance(forwarder, Forwarder) and forwarder.kind == kind
    await forwarder.close()


def test_defaults_and_normalising() -> None:
    email = load_forwarding_config(EMAIL)
    assert isinstance(email, EmailConfig)
    assert (email.smtp_port, email.starttls, email.tls_ca_file) == (587, True, None)
    open311 = load_forwarding_config(OPEN311)
    assert isinstance(open311, Open311Config)
    assert open311.base_url == "https://open311.example.nl/v2"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "forwarding.kind: expected one of signalen, open311, email"),
        ({**SIGNALEN, "kind": "fax"}, "forwarding.kind:"),
        ({**SIGNALEN, "base_url": "api.example.nl"}, "forwarding.base_url: expected an http"),
        (
            {**SIGNALEN, "category_urls": {"road": SUB}},
            'forwarding.category_urls: needs an "other"',
        ),
        ({**SIGNALEN, "category_urls": {"other": "overig"}}, "forwarding.category_urls: 'other'"),
        ({**SIGNALEN, "fallback_point": {"lat": 95, "lon": 4}}, "forwarding.fallback_point.lat"),
        ({**SIGNALEN, "sorce": "x"}, "forwarding.sorce: Extra inputs are not permitted"),
        (
            {k: v for k, v in OPEN311.items() if k != "api_key"},
            "forwarding.api_key: Field required",
        ),
        ({**OPEN311, "api_key": " "}, "forwarding.api_key: is empty"),
        ({**OPEN311, "service_codes": {"road": "1"}}, "forwarding.service_codes"),
        (
            {**OPEN311, "attributes": {"VL-01": {"paal": "{nummer}"}}},
            "forwarding.attributes: VL-01.paal: unknown field '{nummer}'",
        ),
        ({**OPEN311, "format": "yaml"}, "forwarding.format"),
        ({**EMAIL, "to_address": "gemeente"}, "forwarding.to_address: expected an e-mail"),
        ({**EMAIL, "smtp_port": 0}, "forwarding.smtp_port"),
        ({**EMAIL, "username": "u"}, "forwarding.username: give both"),
        ({**EMAIL, "starttls": False}, "forwarding.starttls: false is only allowed"),
        ({**EMAIL, "tls_ca_file": "/nonexistent/ca.pem"}, "forwarding.tls_ca_file: file not found"),
        ({**EMAIL, "password_env": "NOT_SET_ANYWHERE"}, "forwarding.password_env: environment"),
        ({**OPEN311, "api_key_env": "KEY"}, "forwarding.api_key_env: give api_key or api_key_env"),
    ],
)
def test_errors_name_the_field(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ForwardingConfigError) as caught:
        load_forwarding_config(table, env={"KEY": "x"})
    assert str(caught.value).startswith(message), str(caught.value)


def test_secrets_come_from_the_environment_and_never_show() -> None:
    table = {k: v for k, v in OPEN311.items() if k != "api_key"} | {"api_key_env": "O311_KEY"}
    config = load_forwarding_config(table, env={"O311_KEY": "from-env-key"})
    assert isinstance(config, Open311Config)
    assert config.api_key.get_secret_value() == "from-env-key"
    shown = repr(config) + str(config) + repr(build_forwarder(config))
    assert "from-env-key" not in shown

    mail = load_forwarding_config(
        {**EMAIL, "username": "wijkbot", "password_env": "SMTP_PW"}, env={"SMTP_PW": "pw-geheim"}
    )
    assert isinstance(mail, EmailConfig) and mail.password is not None
    assert mail.password.get_secret_value() == "pw-geheim"
    assert "pw-geheim" not in repr(mail) + str(mail)


def test_starttls_may_be_off_only_for_a_local_relay() -> None:
    config = load_forwarding_config({**EMAIL, "smtp_host": "localhost", "starttls": False})
    assert isinstance(config, EmailConfig) and not config.starttls


def test_signalen_private_api_secret_from_env_or_file(tmp_path: Any) -> None:
    private = {"token_url": "https://login.example.nl/token", "client_id": "wijkbot"}
    from_env = load_forwarding_config(
        SIGNALEN | private | {"client_secret_env": "SIG_SECRET"},
        env={"SIG_SECRET": "geheim-uit-de-omgeving"},
    )
    assert isinstance(from_env, SignalenConfig) and from_env.private_api
    assert "geheim" not in repr(from_env)
    secret = tmp_path / "secret"
    secret.write_text("geheim-uit-een-bestand\n")
    from_file = load_forwarding_config(SIGNALEN | private | {"client_secret_file": str(secret)})
    assert isinstance(from_file, SignalenConfig) and from_file.client_secret is not None
    assert from_file.client_secret.get_secret_value() == "geheim-uit-een-bestand"
    with pytest.raises(ForwardingConfigError, match=r"forwarding\.token_url: give token_url"):
        load_forwarding_config(SIGNALEN | private)  # no secret: all three or none
    with pytest.raises(ForwardingConfigError, match=r"forwarding\.client_secret_file: cannot"):
        load_forwarding_config(SIGNALEN | private | {"client_secret_file": "/nonexistent/x"})
