"""A test browser: a requests session that fills in and submits HTML forms, CSRF token included.

It follows redirects while they stay on the server under test and stops at the first one that leaves it (the
authorization endpoint's answer to the client's ``redirect_uri``), so a test can read where the user was sent.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests


class _Forms(HTMLParser):
    """The page's forms: each ``{"action", "method", "fields": {name: value}}``; buttons are left to the caller."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "method": attrs.get("method", "get"), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name") and attrs.get("type") != "submit":
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def open(self, url: str) -> requests.Response:
        return self._follow(self.session.get(urljoin(self.base_url + "/", url), allow_redirects=False, timeout=30))

    def submit(self, page: requests.Response, **fields) -> requests.Response:
        """Post the page's first form with its own fields (hidden ones, the CSRF token) overridden by ``fields``."""
        parser = _Forms()
        parser.feed(page.text)
        assert parser.forms, f"no form on {page.url}"
        form = parser.forms[0]
        response = self.session.post(
            urljoin(page.url, form["action"]),
            data={**form["fields"], **fields},
            headers={"Referer": page.url},
            allow_redirects=False,
            timeout=30,
        )
        return self._follow(response)

    def _follow(self, response: requests.Response) -> requests.Response:
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if urlsplit(target).netloc != urlsplit(self.base_url).netloc:
                return response
            response = self.session.get(target, allow_redirects=False, timeout=30)
        return response
