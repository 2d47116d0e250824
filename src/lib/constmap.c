/* ISC license. */
/* Case-insensitive hash map over a control list. */

#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <qmail-s6/constmap.h>

static uint32_t hash_lower (char const *s, size_t n)
{
  uint32_t h = 2166136261u ;
  while (n--)
  {
    unsigned char c = *s++ ;
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A' ;
    h = (h ^ c) * 16777619u ;
  }
  return h ;
}

int constmap_init (constmap *m, char const *list, size_t len, int splitcolon)
{
  size_t pos = 0, count = 0 ;
  uint32_t nb = 1 ;
  memset(m, 0, sizeof(*m)) ;
  for (size_t i = 0 ; i < len ; i++) if (!list[i]) count++ ;
  if (count >= 0x7fffffffu) return 0 ;
  while (nb < 2 * count) nb <<= 1 ;
  m->entries = calloc(count ? count : 1, sizeof(constmap_entry)) ;
  m->buckets = calloc(nb, sizeof(uint32_t)) ;
  if (!m->entries || !m->buckets) { constmap_free(m) ; return 0 ; }
  m->mask = nb - 1 ;
  while (pos < len)
  {
    char const *line = list + pos ;
    size_t linelen = strnlen(line, len - pos) ;
    size_t keylen = linelen ;
    char const *value = line + linelen ;
    constmap_entry *e = m->entries + m->n ;
    if (splitcolon)
    {
      char const *colon = memchr(line, ':', linelen) ;
      if (colon) { keylen = colon - line ; value = colon + 1 ; }
    }
    pos += linelen + 1 ;
    e->key = line ;
    e->keylen = keylen ;
    e->value = value ;
    e->hash = hash_lower(line, keylen) ;
    /* newest first in its bucket: as qmail's constmap, the last line of
       a duplicated key wins */
    e->next = m->buckets[e->hash & m->mask] ;
    m->buckets[e->hash & m->mask] = ++m->n ;
  }
  return 1 ;
}

void constmap_free (constmap *m)
{
  free(m->entries) ;
  free(m->buckets) ;
  memset(m, 0, sizeof(*m)) ;
}

char const *constmap_get (constmap const *m, char const *s, size_t n)
{
  uint32_t h, i ;
  if (!m->buckets) return 0 ;
  h = hash_lower(s, n) ;
  for (i = m->buckets[h & m->mask] ; i ; i = m->entries[i-1].next)
  {
    constmap_entry const *e = m->entries + i - 1 ;
    if (e->hash == h && e->keylen == n && !strncasecmp(e->key, s, n)) return e->value ;
  }
  return 0 ;
}
