"""Spreadsheets: a department's quarter as a pre-filled workbook, and uploads of workbooks and CSV exports."""
