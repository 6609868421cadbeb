"""Where texts come from and how they become prepared tables: sources (download and fingerprint), the readers
of IMDB, The Movies Dataset and a user's labelled file, the stratified splits, the data report and `textclf init`.
"""
