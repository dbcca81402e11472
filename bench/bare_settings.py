"""Settings of the bare reference (bench/bare.py): the project's, without middleware or DRF in the way."""

from project.settings import *  # noqa: F403

MIDDLEWARE = []
ROOT_URLCONF = "bench.bare"
