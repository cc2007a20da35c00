import pytest


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signing", [False, True])
def test_sdk_reaches_the_server_plain_and_signed(lr_sdk, signing):
    sdk = lr_sdk(signing=signing)
    # An unknown UID is answered with a LoginRadius error body the SDK hands back as a dict.
    result = sdk.account.get_account_profile_by_uid("0" * 32)
    assert result["ErrorCode"] in (938, 404), result
