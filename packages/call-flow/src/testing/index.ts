export {
  elementsOf,
  parseXml,
  skeletonOf,
  textOf,
  type XmlDocument,
  type XmlElement,
  type XmlNode,
} from './xml.ts';
