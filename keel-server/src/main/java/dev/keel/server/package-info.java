/** The HTTP API of Keel: routes, authentication, problem+json errors, limits and SSE. */
@NullMarked
package dev.keel.server;

import org.jspecify.annotations.NullMarked;
