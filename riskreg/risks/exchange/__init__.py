"""Register and treatment-plan sheets as CSV and XLSX files (docs/risk-exchange.md).

Pure: no models, no queries. `cells` neutralises and restores one text cell, `columns`
defines the two sheets and types their cells, `csvio` and `xlsxio` turn rows into bytes
and back, and `files` picks the format of an upload.
"""
