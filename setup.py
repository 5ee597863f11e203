"""Install the three folders under one top-level name, ``wsresilience``.

The repository keeps the layout QA teams asked for (``keywords/``, plus ``refserver/`` and
``faultproxy/`` beside it), but installing those as top-level packages would put generic
names into a user's site-packages, where another project's ``keywords`` could shadow ours
or be shadowed by it. So the folders are mapped:

    keywords/    -> wsresilience
    refserver/   -> wsresilience.refserver
    faultproxy/  -> wsresilience.faultproxy

``pyproject.toml`` holds the metadata; this file only computes the package list and the
mapping, which setuptools cannot express in ``pyproject.toml`` for nested folders.
"""

from setuptools import find_packages, setup

FOLDERS = {"wsresilience": "keywords", "wsresilience.refserver": "refserver",
           "wsresilience.faultproxy": "faultproxy"}

packages = []
for name, folder in FOLDERS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=FOLDERS)
