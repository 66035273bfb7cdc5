"""Performance runs: report.html (bench_report); see README.md here."""
