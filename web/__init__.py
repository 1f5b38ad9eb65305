"""The workbench: whistle's web pages for branches, units, the station and
auditors, in Chinese first, served by the API's own app (``web.app``)."""
