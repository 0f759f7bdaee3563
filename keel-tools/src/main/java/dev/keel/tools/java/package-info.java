/** Java tools: a tool is a value, a spec plus a handler, with records as typed arguments. */
@NullMarked
package dev.keel.tools.java;

import org.jspecify.annotations.NullMarked;
