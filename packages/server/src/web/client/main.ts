import { startBuildList } from './build-list.js';
import { startBuildPage } from './build-page.js';
import { enhanceFiles } from './files.js';

// A module script runs once the document is parsed.
document.documentElement.classList.add('js');
switch (document.body.dataset.page) {
  case 'builds':
    startBuildList();
    break;
  case 'build':
    startBuildPage();
    break;
  case 'package':
    enhanceFiles();
    break;
  default:
    break;
}
