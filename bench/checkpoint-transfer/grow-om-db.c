// Adds N incompressible rows of SIZE bytes to one column family of an existing RocksDB (an OM's
// om.db, OM stopped), under key prefix "/zzbench/", then flushes: a big checkpoint to transfer.
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: grow-om-db DB CF ROWS ROWBYTES\n"); return 2; }
  const char *path = argv[1], *target = argv[2]; long rows = atol(argv[3]), size = atol(argv[4]);
  char *err = NULL; rocksdb_options_t *options = rocksdb_options_create();
  size_t count = 0; char **names = rocksdb_list_column_families(options, path, &count, &err);
  if (err) { fprintf(stderr, "%s\n", err); return 1; }
  const rocksdb_options_t **cfOptions = malloc(sizeof(void *) * count);
  rocksdb_column_family_handle_t **handles = malloc(sizeof(void *) * count);
  for (size_t i = 0; i < count; i++) cfOptions[i] = options;
  rocksdb_t *db = rocksdb_open_column_families(options, path, (int)count, (const char *const *)names, cfOptions, handles, &err);
  if (err) { fprintf(stderr, "%s\n", err); return 1; }
  rocksdb_column_family_handle_t *cf = NULL;
  for (size_t i = 0; i < count; i++) if (strcmp(names[i], target) == 0) cf = handles[i];
  if (!cf) { fprintf(stderr, "no column family %s\n", target); return 1; }
  rocksdb_writeoptions_t *write = rocksdb_writeoptions_create(); rocksdb_writeoptions_disable_WAL(write, 1);
  char *value = malloc(size); unsigned long long state = 88172645463325252ULL; char key[64];
  for (long row = 0; row < rows; row++) {
    for (long i = 0; i < size; i++) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; value[i] = (char)state; }
    int keyLength = snprintf(key, sizeof key, "/zzbench/b/%08ld", row);
    rocksdb_put_cf(db, write, cf, key, keyLength, value, size, &err);
    if (err) { fprintf(stderr, "%s\n", err); return 1; }
  }
  rocksdb_flushoptions_t *flush = rocksdb_flushoptions_create(); rocksdb_flushoptions_set_wait(flush, 1);
  rocksdb_flush_cf(db, flush, cf, &err);
  if (err) { fprintf(stderr, "%s\n", err); return 1; }
  for (size_t i = 0; i < count; i++) rocksdb_column_family_handle_destroy(handles[i]);
  rocksdb_close(db);
  printf("added %ld rows of %ld bytes to %s\n", rows, size, target);
  return 0;
}
