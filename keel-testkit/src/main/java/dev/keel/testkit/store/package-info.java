/** The contract suite every {@link dev.keel.store.RunStore} passes. */
@NullMarked
package dev.keel.testkit.store;

import org.jspecify.annotations.NullMarked;
