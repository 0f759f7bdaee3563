/** A small immutable JSON value model with a strict, bounded parser and a canonical writer. */
@NullMarked
package dev.keel.json;

import org.jspecify.annotations.NullMarked;
