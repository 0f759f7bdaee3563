/** JSON Schema 2020-12 compilation, meta-validation and argument checking with JSON pointers. */
@NullMarked
package dev.keel.tools.schema;

import org.jspecify.annotations.NullMarked;
