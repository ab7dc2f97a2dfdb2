import { SaxesParser } from 'saxes';

/**
 * Test support: a TwiML document read back by a conforming XML 1.0 parser (saxes: well-formedness, the characters XML
 * allows, entities), as a tree. Whatever the writer got wrong (an unescaped `<`, a NUL, a lone surrogate) fails here
 * instead of at the carrier.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export interface XmlDocument {
  declaration: { version: string | undefined; encoding: string | undefined };
  root: XmlElement;
}

/** Parses `xml`; throws on the first well-formedness error. Adjacent text is joined; entities are decoded. */
export function parseXml(xml: string): XmlDocument {
  const parser = new SaxesParser();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let declaration: XmlDocument['declaration'] = { version: undefined, encoding: undefined };
  parser.on('error', (err) => {
    throw err;
  });
  parser.on('xmldecl', (decl) => {
    declaration = { version: decl.version, encoding: decl.encoding };
  });
  parser.on('opentag', (tag) => {
    const element: XmlElement = { name: tag.name, attributes: { ...tag.attributes }, children: [] };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (text) => {
    const parent = stack.at(-1);
    if (!parent) {
      if (text.trim() !== '') throw new Error(`text outside the root element: ${JSON.stringify(text)}`);
      return;
    }
    const last = parent.children.at(-1);
    if (typeof last === 'string') parent.children[parent.children.length - 1] = last + text;
    else parent.children.push(text);
  });
  parser.on('cdata', () => {
    throw new Error('a CDATA section: the writer never writes one');
  });
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return { declaration, root };
}

/** The elements, in document order, depth first. */
export function elementsOf(element: XmlElement): XmlElement[] {
  return [element, ...element.children.flatMap((c) => (typeof c === 'string' ? [] : elementsOf(c)))];
}

/** The text directly inside `element`. */
export function textOf(element: XmlElement): string {
  return element.children.filter((c): c is string => typeof c === 'string').join('');
}

/** The document's shape: element names and attributes, with every text replaced by `#text`. */
export function skeletonOf(element: XmlElement): unknown {
  return {
    name: element.name,
    attributes: element.attributes,
    children: element.children.map((c) => (typeof c === 'string' ? '#text' : skeletonOf(c))),
  };
}
