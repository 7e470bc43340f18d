"""监督考核 reports: a short text, PNG charts and an .xlsx workbook rendered from assessment.report.Report."""
