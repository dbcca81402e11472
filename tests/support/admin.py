"""The admin's pages driven over real HTTP by a signed-in account."""

import re

import requests
from django.conf import settings
from django.test import Client

from accounts.models import User

PASSWORD = "a long admin password 42"


class AdminBrowser:
    """A requests session signed in as the account ``email`` that submits the admin's forms with their CSRF token.

    The session is made by the test client's ``force_login``: these tests are about the admin's pages, and signing in
    (at the login page, with its checks) has its own tests, tests/security/test_security_signin.py.
    """

    def __init__(self, base_url, email):
        self.base_url = base_url
        self.session = requests.Session()
        client = Client()
        client.force_login(User.objects.get(email=email))
        self.session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)

    def get(self, path, **kwargs):
        return self.session.get(self.base_url + path, timeout=10, **kwargs)

    def submit(self, path, data):
        form = self.get(path)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        return self.session.post(
            self.base_url + path,
            data={**data, "csrfmiddlewaretoken": csrf},
            headers={"Referer": self.base_url + path},
            timeout=10,
        )

    def deactivate_client(self, client) -> requests.Response:
        """Save ``client``'s change form as it is, but with *active* cleared."""
        return self.submit(
            f"/admin/accounts/appclient/{client.pk}/change/",
            {
                "name": client.name,
                "organization": str(client.organization_id),
                "roles": [str(pk) for pk in client.roles.values_list("pk", flat=True)],
                "client_type": client.client_type,
                "authorization_grant_type": client.authorization_grant_type,
                "redirect_uris": "",
                # is_active left out: the checkbox is cleared
            },
        )
