"""What the sender is told, and how the SMTP settings and replies are read: provider profiles with explicit
variables winning, every reply classified as what it means (Hypothesis searches the replies), and counts, times
and durations in Japanese."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dayori.delivery import words
from dayori.delivery.smtp import ConfigError, Kind, SmtpConfig, classify

OAUTH = {"DAYORI_OAUTH_TENANT": "t", "DAYORI_OAUTH_CLIENT_ID": "c", "DAYORI_OAUTH_CLIENT_SECRET": "s"}


def test_the_exchange_online_profile_fills_in_host_port_login_and_limits():
    config = SmtpConfig.from_env({"DAYORI_SMTP_PROFILE": "exchange-online", **OAUTH})
    assert (config.host, config.port, config.security, config.auth) == ("smtp.office365.com", 587, "starttls", "oauth2")
    assert (config.per_minute, config.per_day) == (30, 10_000)


def test_explicit_variables_override_the_profile_and_auth_none_is_a_connector_relay():
    env = {"DAYORI_SMTP_PROFILE": "Exchange-Online", "DAYORI_SMTP_HOST": "contoso-go-jp.mail.protection.outlook.com",
           "DAYORI_SMTP_PORT": "25", "DAYORI_SMTP_AUTH": "none", "DAYORI_SMTP_USER": "ignored@example.go.jp",
           "DAYORI_SMTP_DAILY_LIMIT": "５,０００", "DAYORI_SMTP_PER_MINUTE": "0"}
    config = SmtpConfig.from_env(env)
    assert (config.host, config.port, config.auth, config.user, config.oauth) == (
        "contoso-go-jp.mail.protection.outlook.com", 25, "none", "", None)
    assert (config.per_day, config.per_minute) == (5000, None)


def test_the_hve_profile_needs_its_account_and_names_it():
    config = SmtpConfig.from_env({"DAYORI_SMTP_PROFILE": "exchange-hve", "DAYORI_SMTP_USER": "hve@example.go.jp",
                                  "DAYORI_SMTP_PASSWORD": "pw"})
    assert (config.host, config.port, config.security, config.auth) == ("smtp.hve.mx.microsoft", 587, "starttls", "basic")
    assert config.profile.internal_only
    with pytest.raises(ConfigError, match="DAYORI_SMTP_USER"):
        SmtpConfig.from_env({"DAYORI_SMTP_PROFILE": "exchange-hve"})
    assert SmtpConfig.from_env({"DAYORI_SMTP_PROFILE": "exchange-hve", "DAYORI_SMTP_AUTH": "oauth2", **OAUTH}).auth == "oauth2"


@pytest.mark.parametrize(("env", "message"), [
    ({"DAYORI_SMTP_PROFILE": "office365"}, "exchange-online"),
    ({}, "DAYORI_SMTP_PROFILE"),
    ({"DAYORI_SMTP_HOST": "h", "DAYORI_SMTP_AUTH": "login"}, "none"),
    ({"DAYORI_SMTP_HOST": "h", "DAYORI_SMTP_PORT": "70000"}, "65535"),
    ({"DAYORI_SMTP_HOST": "h", "DAYORI_SMTP_DAILY_LIMIT": "-1"}, "0 以上"),
])
def test_wrong_settings_are_named_in_japanese(env, message):
    with pytest.raises(ConfigError, match=message):
        SmtpConfig.from_env(env)


@pytest.mark.parametrize(("code", "reply", "step", "kind"), [
    (554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message", "END",
     Kind.THROTTLED),
    (432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", "END", Kind.THROTTLED),
    (451, "4.7.500 Server busy. Please try again later from [203.0.113.1]. (AS761)", "RCPT", Kind.THROTTLED),
    (421, "4.3.2 Service not available, closing transmission channel", "MAIL", Kind.THROTTLED),
    (550, "5.1.90 Your message can't be sent because you've reached your daily limit for message recipients", "END",
     Kind.DAILY_CAP),
    (452, "4.5.3 Daily message limit exceeded", "MAIL", Kind.DAILY_CAP),
    (-1, "OK queued as 12345", "END", Kind.UNCERTAIN),
    (-1, "garbage", "RCPT", Kind.TEMPORARY),
    (550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "RCPT", Kind.PERMANENT),
    (550, "5.1.1 User unknown", "END", Kind.PERMANENT),
    (550, "5.1.8 Access denied, bad outbound sender", "END", Kind.SENDER),
    (530, "5.7.57 Client not authenticated to send mail", "MAIL", Kind.SENDER),
    (554, "5.6.211 Invalid MIME Content", "END", Kind.SENDER),
    (552, "5.3.4 Message size exceeds fixed maximum message size", "END", Kind.SENDER),
    (451, "4.3.0 try again later", "RCPT", Kind.THROTTLED),
    (450, "4.2.1 Mailbox busy", "RCPT", Kind.TEMPORARY),
])
def test_replies_from_exchange_online_and_others_mean_what_they_say(code, reply, step, kind):
    assert classify(code, reply, step) is kind


_steps = st.sampled_from(["MAIL", "RCPT", "DATA", "END"])


@given(code=st.integers(400, 599), before=st.text(max_size=40), after=st.text(max_size=40), step=_steps,
       word=st.sampled_from(["SubmissionQuotaExceededException", "QuotaExceeded", "sender thread limit exceeded",
                             "Daily limit exceeded", "rate limit"]))
def test_a_quota_or_throttling_reply_is_never_a_failure(code, before, after, step, word):
    """Whatever surrounds them, quota words mean later: never PERMANENT (failed) nor SENDER (run stopped)."""
    assert classify(code, f"{before} {word} {after}", step) in (Kind.THROTTLED, Kind.DAILY_CAP)


@given(reply=st.text(max_size=80).filter(lambda text: not re.match(r"\s*[0-9]{3}", text)))
def test_an_answer_without_a_code_after_the_message_is_always_uncertain(reply):
    assert classify(-1, reply, "END") is Kind.UNCERTAIN


@given(code=st.integers(500, 599), detail=st.integers(0, 999), step=st.sampled_from(["MAIL", "DATA", "END"]))
def test_only_the_readers_own_address_fails_them(code, detail, step):
    """At MAIL a 5xx is about the sender; at DATA or after the message only an addressing status (5.1.x, not the
    sender's 5.1.7/5.1.8 nor the daily 5.1.90) names the reader."""
    kind = classify(code, f"5.{detail % 8}.{detail} refused", step)
    assert kind is not Kind.UNCERTAIN
    if kind is Kind.PERMANENT:
        assert step != "MAIL" and detail % 8 == 1 and detail not in (7, 8, 90)


@given(st.integers(0, 10**9))
def test_counts_have_thousands_separators(number):
    text = words.count(number)
    assert text.replace(",", "") == str(number) and re.fullmatch(r"\d{1,3}(,\d{3})*", text)


@pytest.mark.parametrize(("seconds", "text"), [(30, "1 分未満"), (60, "約 1 分"), (8_400, "約 2 時間 20 分"),
                                               (7_200, "約 2 時間"), (90_000, "約 1 日 1 時間"),
                                               (float("nan"), "不明")])
def test_durations_read_as_japanese(seconds, text):
    assert words.duration(seconds) == text


@given(st.floats(60, 10**7))
def test_a_duration_never_shows_a_python_value(seconds):
    text = words.duration(seconds)
    assert re.fullmatch(r"約( \d+ (日|時間|分))+", text)


def test_times_are_shown_in_japan_standard_time():
    assert words.japan_time("2026-12-06T02:47:54+00:00") == "2026年12月6日 11:47"
    assert words.japan_time(dt.datetime(2026, 12, 31, 15, 5, tzinfo=dt.UTC)) == "2027年1月1日 0:05"
