/** The stateless engine: claim, load, decide, record, act, checkpoint. */
@NullMarked
package dev.keel.engine;

import org.jspecify.annotations.NullMarked;
