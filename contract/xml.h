/* A small non-validating XML reader for matching XML bodies: elements with
 * resolved namespaces, attributes, and the text directly inside each
 * element (each text or CDATA piece trimmed, then joined). Comments,
 * processing instructions and DOCTYPE are skipped. Private to contract/. */
#ifndef FL_CONTRACT_XML_H
#define FL_CONTRACT_XML_H

#include <stddef.h>

struct fl_xml_attr {
	char *name;  /* as written: "n:name" */
	char *local; /* "name" */
	char *ns;    /* namespace URI or NULL */
	char *value;
};

struct fl_xml_node {
	char *name; /* as written: "a:alligator" */
	char *local;
	char *ns; /* resolved namespace URI or NULL */
	struct fl_xml_attr *attrs;
	size_t nattrs;
	struct fl_xml_node **children; /* elements only */
	size_t nchildren;
	char *text; /* trimmed text pieces joined ("" when none) */
};

/* Parse a document; returns its root element (caller frees with
 * fl_xml_free) or NULL with "line L column C: reason" in err. */
struct fl_xml_node *fl_xml_parse(const char *text, size_t len, char *err, size_t errlen);

void fl_xml_free(struct fl_xml_node *n);

#endif
