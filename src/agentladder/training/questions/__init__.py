"""The question bank: categories, questions and their versions, and the GIFT, Moodle XML
and XLSX formats it imports and exports."""
