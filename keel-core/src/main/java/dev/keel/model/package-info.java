/** The model port: normalized requests, responses, usage and failures. */
@NullMarked
package dev.keel.model;

import org.jspecify.annotations.NullMarked;
