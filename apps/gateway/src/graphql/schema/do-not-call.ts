// Filled in below once the phone normaliser's API is settled.
export {};
