/** HTTP tools declared in configuration, behind an SSRF guard that pins resolved addresses. */
@NullMarked
package dev.keel.tools.http;

import org.jspecify.annotations.NullMarked;
