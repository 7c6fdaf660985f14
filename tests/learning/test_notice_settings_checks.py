"""A misspelt notice setting stops `manage.py check` instead of silently turning
notices off."""

from django.core import checks

from learning.notices.checks import check_notice_settings


def ids(errors):
    return [error.id for error in errors]


def test_the_shipped_settings_pass(settings):
    assert check_notice_settings() == []
    settings.XUEFA_NOTICE_CHANNELS = ["email", "sms", "wecom", "wecom_robot", "dingtalk_robot"]
    settings.XUEFA_SMS_BACKEND = "aliyun"
    assert check_notice_settings() == []


def test_an_unknown_channel_is_an_error_that_names_it(settings):
    settings.XUEFA_NOTICE_CHANNELS = ["email", "wechat_work"]
    [error] = check_notice_settings()
    assert error.id == "learning.E004" and error.level == checks.ERROR
    assert "wechat_work" in error.msg and "wecom" in error.hint


def test_unknown_channels_and_kinds_in_the_channel_kinds(settings):
    settings.XUEFA_NOTICE_CHANNEL_KINDS = {"dingding": ["briefing"], "wecom_robot": ["exam_opens"]}
    errors = check_notice_settings()
    assert ids(errors) == ["learning.E005", "learning.E006"]
    assert "dingding" in errors[0].msg and "exam_opens" in errors[1].msg


def test_an_unknown_sms_gateway_matters_only_when_sms_is_on(settings):
    settings.XUEFA_SMS_BACKEND = "huawei"
    assert check_notice_settings() == []
    settings.XUEFA_NOTICE_CHANNELS = ["sms"]
    assert ids(check_notice_settings()) == ["learning.E007"]


def test_the_check_runs_with_manage_py_check(settings):
    settings.XUEFA_NOTICE_CHANNELS = ["emial"]
    assert "learning.E004" in ids(checks.run_checks())
