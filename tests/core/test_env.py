import pytest

from core.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_url,
    parse_email_url,
)


def test_unset_and_blank_values_take_the_default():
    assert env_bool("X", True, environ={}) is True
    assert env_bool("X", False, environ={"X": "  "}) is False
    assert env_int("X", 7, environ={}) == 7
    assert env_list("X", ["a"], environ={}) == ["a"]


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("off", False)])
def test_it_reads_booleans(raw, expected):
    assert env_bool("X", not expected, environ={"X": raw}) is expected


def test_a_mistyped_boolean_fails_loudly_naming_the_variable():
    with pytest.raises(ImproperlyConfiguredEnv, match="DJANGO_DEBUG='ture' is not a boolean"):
        env_bool("DJANGO_DEBUG", False, environ={"DJANGO_DEBUG": "ture"})


def test_integers_are_checked_for_form_and_minimum():
    with pytest.raises(ImproperlyConfiguredEnv, match="not an integer"):
        env_int("N", 1, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfiguredEnv, match="below the minimum"):
        env_int("N", 1, minimum=1, environ={"N": "0"})
    assert env_int("N", 1, minimum=1, environ={"N": "5"}) == 5


def test_a_list_with_an_empty_item_is_refused():
    assert env_list("H", [], environ={"H": "a.org, b.org"}) == ["a.org", "b.org"]
    with pytest.raises(ImproperlyConfiguredEnv, match="empty item"):
        env_list("H", [], environ={"H": "a.org,,b.org"})


def test_a_choice_outside_its_list_is_refused():
    assert (
        env_choice("LOG_LEVEL", "INFO", ("INFO", "DEBUG"), environ={"LOG_LEVEL": "DEBUG"})
        == "DEBUG"
    )
    with pytest.raises(ImproperlyConfiguredEnv, match="must be one of INFO, DEBUG"):
        env_choice("LOG_LEVEL", "INFO", ("INFO", "DEBUG"), environ={"LOG_LEVEL": "LOUD"})


def test_urls_must_have_an_allowed_scheme_and_a_host():
    with pytest.raises(ImproperlyConfiguredEnv, match="schemes redis"):
        env_url("REDIS_URL", schemes=("redis",), environ={"REDIS_URL": "http://x"})
    with pytest.raises(ImproperlyConfiguredEnv, match="no host"):
        env_url("REDIS_URL", schemes=("redis",), environ={"REDIS_URL": "redis://"})
    assert env_url("R", schemes=("redis",), environ={"R": "redis://h:6379/0"}) == "redis://h:6379/0"


def test_email_url_defaults_to_the_console():
    assert parse_email_url("EMAIL_URL", environ={}).backend.endswith("console.EmailBackend")


def test_email_url_reads_submission_with_starttls_and_sender():
    config = parse_email_url(
        "EMAIL_URL",
        environ={
            "EMAIL_URL": "submission://ops%40example.org:s3cr%2Ft@mail.example.org?from=gov@example.org"
        },
    )
    assert (config.host, config.port, config.use_tls, config.use_ssl) == (
        "mail.example.org",
        587,
        True,
        False,
    )
    assert (config.user, config.password, config.default_from) == (
        "ops@example.org",
        "s3cr/t",
        "gov@example.org",
    )


def test_email_url_with_a_bad_port_fails_loudly():
    with pytest.raises(ImproperlyConfiguredEnv, match="invalid port"):
        parse_email_url("EMAIL_URL", environ={"EMAIL_URL": "smtp://host:99999"})
