"""A push notifier that delivers into memory, and a device that reads it and answers."""

from rest_framework.test import APIClient

INBOX: dict[str, list[dict]] = {}


class MemoryNotifier:
    def send(self, *, device_address: str, payload: dict) -> None:
        INBOX.setdefault(device_address, []).append(payload)


class FakeDevice:
    """A phone app: registers with the account's access token, then answers challenges."""

    def __init__(self, tenant, address: str):
        self.tenant, self.address = tenant, address
        self.secret = None
        self.client = APIClient()

    def register(self, access_token: str, name: str = "phone"):
        response = self.client.post(
            f"/identity/v2/auth/account/2fa/push?apikey={self.tenant.api_key}",
            {"DeviceToken": self.address, "DeviceName": name},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {access_token}",
        )
        self.secret = response.json().get("DeviceSecret")
        return response

    def notifications(self) -> list[dict]:
        return INBOX.get(self.address, [])

    def answer(self, approve: bool, challenge_id: str | None = None, secret: str | None = None):
        challenge_id = challenge_id or self.notifications()[-1]["ChallengeId"]
        return self.client.put(
            f"/identity/v2/auth/login/2fa/push/respond?apikey={self.tenant.api_key}",
            {
                "ChallengeId": challenge_id,
                "DeviceSecret": secret or self.secret,
                "Approve": approve,
            },
            format="json",
        )
