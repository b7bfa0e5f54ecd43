// The work screens, one per task, named after the seed's screens (modules under screens/, by
// area). Each screen mounts into its section, loads through the API, follows its live feed,
// and returns the function that stops the feed when the user leaves.
import { L } from '/web/app/app.js';
import { boardScreen, checkScreen, receivedScreen, allocateScreen } from '/web/app/screens/allocation.js';
import { facilityScreen, deliveriesScreen, receiptsScreen, supplyScreen, dryIceScreen } from '/web/app/screens/delivery.js';
import { approvalsScreen, venuesScreen, municipalitiesScreen } from '/web/app/screens/registry.js';
import { reportScreen } from '/web/app/screens/reports.js';
import { callCentreScreen, reservationStatusScreen, slotsScreen } from '/web/app/screens/reservations.js';
import { questionnairesScreen, residentRequestsScreen } from '/web/app/screens/residents.js';
import { accountScreen } from '/web/app/screens/account.js';

/** The screens, in menu order, with the roles that see them. */
export const SCREENS = [
  { id: 'board', roles: ['NATION'], title: () => L('全国の進捗', 'National board'), mount: boardScreen },
  { id: 'check', roles: ['PREFECTURE'], title: () => L('配分チェック・データロック', 'Check and data lock'), mount: checkScreen },
  { id: 'received', roles: ['PREFECTURE', 'MUNICIPALITY'], title: () => L('配分量の確認', 'Allocation received'), mount: receivedScreen },
  { id: 'municipalities', roles: ['PREFECTURE'], title: () => L('管内の市区町村', 'Municipalities'), mount: municipalitiesScreen },
  { id: 'approvals', roles: ['MUNICIPALITY'], title: () => L('変更承認', 'Approvals'), mount: approvalsScreen },
  { id: 'allocate', roles: ['NATION', 'PREFECTURE', 'MUNICIPALITY'], title: () => L('分配', 'Allocate'), mount: allocateScreen },
  { id: 'facility', roles: ['MEDICAL_INSTITUTION'], title: () => L('配分量と納入予定', 'Allocation and deliveries'), mount: facilityScreen },
  { id: 'report', roles: ['MEDICAL_INSTITUTION'], title: () => L('接種実績・希望量', 'Report and desired quantity'), mount: reportScreen },
  { id: 'deliveries', roles: ['WHOLESALER'], title: () => L('納入予定・納入実績', 'Deliveries'), mount: deliveriesScreen },
  { id: 'receipts', roles: ['WHOLESALER'], title: () => L('入荷・在庫', 'Receipts and stock'), mount: receiptsScreen },
  { id: 'supply', roles: ['MANUFACTURER', 'SUPPLY_WAREHOUSE'], title: () => L('供給量・出荷', 'Supply'), mount: supplyScreen },
  { id: 'dry-ice', roles: ['DRY_ICE_SUPPLIER'], title: () => L('ドライアイス', 'Dry ice'), mount: dryIceScreen },
  { id: 'call-centre', roles: ['RESERVATION_OPERATOR', 'MUNICIPALITY'], title: () => L('予約受付', 'Call-centre booking'), mount: callCentreScreen },
  { id: 'venues', roles: ['MUNICIPALITY'], title: () => L('特設会場・医師', 'Venues and doctors'), mount: venuesScreen },
  { id: 'questionnaires', roles: ['MEDICAL_INSTITUTION', 'MUNICIPALITY'], title: () => L('予診票', 'Questionnaires'), mount: questionnairesScreen },
  { id: 'booking-status', roles: ['MEDICAL_INSTITUTION'], title: () => L('予約状況', 'Booking status'), mount: reservationStatusScreen },
  { id: 'slots', roles: ['MUNICIPALITY', 'MEDICAL_INSTITUTION'], title: () => L('予約枠の作成', 'Booking slots'), mount: slotsScreen },
  { id: 'requests', roles: ['MUNICIPALITY'], title: () => L('住民からの届出', 'Residents\' requests'), mount: residentRequestsScreen },
  {
    id: 'account',
    roles: ['NATION', 'PREFECTURE', 'MUNICIPALITY', 'MEDICAL_INSTITUTION', 'AGGREGATOR', 'MEDICAL_ASSOCIATION', 'MANUFACTURER',
      'WHOLESALER', 'DRY_ICE_SUPPLIER', 'SUPPLY_WAREHOUSE', 'SYSTEM_ADMIN', 'RESERVATION_OPERATOR'],
    title: () => L('アカウント', 'Account'),
    mount: accountScreen,
  },
];
