// Icons from index.html's sprite, for elements the modules build.

const SVG = 'http://www.w3.org/2000/svg';

/** An <svg class="icon"> that draws the sprite's #i-<name>; decorative (aria-hidden). */
export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

/** A button of class className with the given text (a text node: never markup). */
export function textButton(label, className, attrs = {}) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = label;
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  return b;
}
