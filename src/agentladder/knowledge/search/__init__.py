"""Search: text analysis (Chinese segmentation, synonyms, stems, sounds) and the BM25 index."""
