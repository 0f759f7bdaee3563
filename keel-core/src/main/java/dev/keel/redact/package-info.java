/**
 * One redaction layer for everything Keel writes or exports: events, logs, traces and error
 * responses. JDK only.
 */
@NullMarked
package dev.keel.redact;

import org.jspecify.annotations.NullMarked;
