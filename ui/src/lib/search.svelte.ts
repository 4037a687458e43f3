// The last household search, kept while the kader opens a household and comes back.
export const lastSearch = $state({ query: '', dusun: '', rt: '' });
