"""Only the package list; everything else is in pyproject.toml.

pyproject.toml maps the top-level ``resources/`` folder to the package ``desktop_app.resources``
(``[tool.setuptools.package-dir]``), but a ``[tool.setuptools.packages.find]`` table only finds packages
by walking folders, so the mapped package would be left out of the wheel. Here it is added by name.
"""

from setuptools import find_namespace_packages, setup

setup(packages=[*find_namespace_packages(include=["desktop_app", "desktop_app.*"]), "desktop_app.resources"])
