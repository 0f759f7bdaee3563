/** Fakes with real semantics, the scripted model, contract suites and the invariant checker. */
@NullMarked
package dev.keel.testkit;

import org.jspecify.annotations.NullMarked;
